window.ISF_SEARCH_SHARD("ICD10-P",[["P00-P96","P00-P96","","codes/ICD10#c-P00_2dP96",["M15"]]]);
