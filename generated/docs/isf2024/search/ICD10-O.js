window.ISF_SEARCH_SHARD("ICD10-O",[["O00-O99","O00-O99","","codes/ICD10#c-O00_2dO99",["371","M14"]]]);
