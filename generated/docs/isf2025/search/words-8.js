window.ISF_SEARCH_WORDS("8",{"items":[["ATC","L01FG01","Bevacizumab (til 802U fra 2025)","codes/ATC#c-L01FG01",["802U"]]],"words":{"802u":[0]}});
