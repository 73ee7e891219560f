"""`./dev chaos`: an isolated three-broker, two-instance system driven with sales while processes die, then
accounted for from each service's own database (docs/scaling.md "Chaos run").

system.py    the isolated system in .run/chaos (free loopback ports) and the faults it can suffer
workload.py  stores, members, coupons and credit accounts, then the sales, refunds, redemptions it drives
faults.py    the fault schedule: SIGKILLed instances, a broker, the active controller, PostgreSQL
accounting.py  pure checks: lost / duplicated per ledger, reversals, tiers, receivables, coupons, SMS, DLQ
run.py       the command: start, drive under faults, settle, account, print one JSON line
"""
