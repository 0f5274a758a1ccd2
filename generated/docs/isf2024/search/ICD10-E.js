window.ISF_SEARCH_SHARD("ICD10-E",[["E00-E90","E00-E90","","codes/ICD10#c-E00_2dE90",["M10"]]]);
