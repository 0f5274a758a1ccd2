window.ISF_SEARCH = {"items":[],"ranges":[],"systems":{}};
