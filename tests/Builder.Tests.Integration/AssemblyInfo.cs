// The end-to-end tests share one Docker engine and two cores: run test classes one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
