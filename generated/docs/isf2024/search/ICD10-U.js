window.ISF_SEARCH_SHARD("ICD10-U",[["U00-U85","U00-U85","","codes/ICD10#c-U00_2dU85",["M18"]]]);
