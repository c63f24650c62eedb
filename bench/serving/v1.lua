-- KServe v1 / TF Serving: {"instances": [[...]]}, one row per request (the bare app reads the same body).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
setup_post("application/json")
