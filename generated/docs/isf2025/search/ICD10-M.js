window.ISF_SEARCH_SHARD("ICD10-M",[["M00-M99","M00-M99","","codes/ICD10#c-M00_2dM99",["M08"]]]);
