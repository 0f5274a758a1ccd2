window.ISF_SEARCH_SHARD("ICD10-Z",[["Z00-Z99","Z00-Z99","","codes/ICD10#c-Z00_2dZ99",["M23"]]]);
