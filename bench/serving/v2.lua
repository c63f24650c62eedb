-- Open Inference Protocol (V2) JSON: one 2-D FP64 tensor, one row per request.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
setup_post("application/json")
