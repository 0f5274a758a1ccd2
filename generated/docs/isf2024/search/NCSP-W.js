window.ISF_SEARCH_SHARD("NCSP-W",[["WBGM20","WBGM20","Infusjon av CAR-T-celler (illustrativ kode)","codes/NCSP#c-WBGM20",["804A"]]]);
