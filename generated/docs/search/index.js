window.ISF_SEARCH = {"items":[],"messages":{},"ranges":[],"systems":{}};
