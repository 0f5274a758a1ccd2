window.ISF_SEARCH_SHARD("ICD10-T",[["T20-T32","T20-T32","","codes/ICD10#c-T20_2dT32",["M22"]],["T33-T98","T33-T98","","codes/ICD10#c-T33_2dT98",["M21"]]]);
