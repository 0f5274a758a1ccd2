window.ISF_SEARCH_SHARD("ICD10-J",[["J00-J99","J00-J99","","codes/ICD10#c-J00_2dJ99",["M04"]]]);
