window.ISF_SEARCH_WORDS("o",{"items":[["NCSP","CHC10","Kryoterapi av øyelokk","codes/NCSP#c-CHC10",["802P"]]],"words":{"oyelokk":[0]}});
