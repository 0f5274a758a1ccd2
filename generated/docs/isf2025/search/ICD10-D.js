window.ISF_SEARCH_SHARD("ICD10-D",[["D00-D48","D00-D48","","codes/ICD10#c-D00_2dD48",["M17"]],["D50-D89","D50-D89","","codes/ICD10#c-D50_2dD89",["M16"]]]);
