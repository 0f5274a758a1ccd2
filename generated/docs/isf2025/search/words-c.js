window.ISF_SEARCH_WORDS("c",{"items":[["NCSP","WBGM20","Infusjon av CAR-T-celler (illustrativ kode)","codes/NCSP#c-WBGM20",["804A"]]],"words":{"car":[0],"celler":[0]}});
