window.ISF_SEARCH_SHARD("ICD10-B",[["B20-B24","B20-B24","","codes/ICD10#c-B20_2dB24",["M25"]],["B25-B99","B25-B99","","codes/ICD10#c-B25_2dB99",["M18"]]]);
