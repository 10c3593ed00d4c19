"""`make bench`: cold-start and AWS-call figures. Benchmarks print; tests never assert timings."""
