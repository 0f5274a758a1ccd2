window.ISF_SEARCH_SHARD("ATC-B",[["B05BA*","B05BA*","Løsninger til parenteral ernæring","codes/ATC#c-B05BA_2a",["XS83"]]]);
