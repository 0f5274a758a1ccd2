window.ISF_SEARCH_SHARD("ICD10-V",[["V01-Y98","V01-Y98","","codes/ICD10#c-V01_2dY98",["470"]]]);
