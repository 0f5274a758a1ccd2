window.ISF_SEARCH_SHARD("NCSP-M",[["MCA10","MCA10","Keisersnitt, nedre segment","codes/NCSP#c-MCA10",["371"]],["MCA20","MCA20","Keisersnitt, klassisk","codes/NCSP#c-MCA20",["371"]]]);
