window.ISF_SEARCH_SHARD("ICD10-R",[["R00-R99","R00-R99","","codes/ICD10#c-R00_2dR99",["M23"]]]);
