window.ISF_SEARCH_WORDS("2",{"items":[["ATC","L01FG01","Bevacizumab (til 802U fra 2025)","codes/ATC#c-L01FG01",["802U"]]],"words":{"2025":[0]}});
