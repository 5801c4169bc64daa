"""HTTP: thin routes that parse, authorise, call one service function and shape the answer."""
