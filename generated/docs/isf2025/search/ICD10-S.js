window.ISF_SEARCH_SHARD("ICD10-S",[["S00-T19","S00-T19","","codes/ICD10#c-S00_2dT19",["M21"]]]);
