"""Pure statistical functions shared by monitoring, rollout guardrails and sequential tests.

Every function takes plain numbers or NumPy arrays and returns plain values or small frozen
records; nothing here touches storage, clocks or settings. Submodules:

- `results`      -- `TestResult`, the record every significance test returns
- `ecdf`         -- two-sample Kolmogorov-Smirnov and normed Wasserstein on (pre-)sorted samples
- `categorical`  -- chi-squared test of homogeneity with rare-category merging, total variation
- `divergence`   -- Jensen-Shannon distance and the population stability index on binned shares
- `multiple`     -- Holm and Bonferroni corrections
- `proportions`  -- the two-proportion z-test
- `ranks`        -- Mann-Whitney U with its effect size (AUC / rank-biserial)
- `intervals`    -- Wilson, t and bootstrap confidence intervals
"""
