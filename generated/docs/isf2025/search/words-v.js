window.ISF_SEARCH_WORDS("v",{"items":[["ICD10","L80","Vitiligo","codes/ICD10#c-L80",["HS08","M09"]]],"words":{"vitiligo":[0]}});
