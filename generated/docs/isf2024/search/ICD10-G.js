window.ISF_SEARCH_SHARD("ICD10-G",[["G00-G99","G00-G99","","codes/ICD10#c-G00_2dG99",["M01"]],["G35","G35","Multippel sklerose","codes/ICD10#c-G35",["M01","NS21"]]]);
