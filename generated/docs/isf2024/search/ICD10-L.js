window.ISF_SEARCH_SHARD("ICD10-L",[["L00-L99","L00-L99","","codes/ICD10#c-L00_2dL99",["M09"]],["L40*","L40*","Psoriasis","codes/ICD10#c-L40_2a",["HS08","M09"]]]);
