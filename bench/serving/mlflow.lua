-- MLflow scoring: {"dataframe_split": {"columns": [...], "data": [[...]]}} to /invocations.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
setup_post("application/json")
