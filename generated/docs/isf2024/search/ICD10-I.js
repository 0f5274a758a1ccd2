window.ISF_SEARCH_SHARD("ICD10-I",[["I00-I99","I00-I99","","codes/ICD10#c-I00_2dI99",["M05"]]]);
