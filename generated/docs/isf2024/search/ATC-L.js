window.ISF_SEARCH_SHARD("ATC-L",[["L04AA31","L04AA31","Teriflunomid","codes/ATC#c-L04AA31",["NS21"]],["L04AX07","L04AX07","Dimetylfumarat","codes/ATC#c-L04AX07",["NS21"]]]);
