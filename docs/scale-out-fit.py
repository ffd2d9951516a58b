#!/usr/bin/env python3
"""Fit docs/scale-out.md's cost model to the output of

    FEDB2B_BENCH_TIER_BIG=1 nice -n 10 go test -run XXX -bench BenchmarkTier \
        -benchtime 3x -benchmem ./aggregation/tier > bench.txt

and print the n = 10,000 estimate table.  Usage: scale-out-fit.py bench.txt
(aggregation/tier/testdata/bench-2026-12-05.txt is the run in the document).
Standard library only."""
import re, sys
from math import ceil
lines=[l for l in open(sys.argv[1]) if l.startswith('BenchmarkTier/')]
def metrics(l):
    return {m[1]:float(m[0]) for m in re.findall(r'([0-9.e+-]+) ([A-Za-z/%-]+)', l.split('\t',2)[2] if '\t' in l else l)}
rows=[]
for l in lines:
    name=l.split()[0]
    mt=dict((u,float(v)) for v,u in re.findall(r'\s([0-9.e+]+) ([A-Za-z%/-]+)', l))
    rows.append((name,mt))
def solve(A,b):
    # least squares via normal equations
    n=len(A[0])
    M=[[sum(A[r][i]*A[r][j] for r in range(len(A))) for j in range(n)] for i in range(n)]
    v=[sum(A[r][i]*b[r] for r in range(len(A))) for i in range(n)]
    for i in range(n):
        p=max(range(i,n),key=lambda r:abs(M[r][i])); M[i],M[p]=M[p],M[i]; v[i],v[p]=v[p],v[i]
        for r in range(n):
            if r!=i:
                f=M[r][i]/M[i][i]
                M[r]=[M[r][j]-f*M[i][j] for j in range(n)]; v[r]-=f*v[i]
    return [v[i]/M[i][i] for i in range(n)]
def params(regime,g,k):
    if regime=='sparse': c=7
    else: c=ceil(g/3)-1
    kk=k if k<g-1 else g-1
    t=max(kk//2+1,c+1); q=(g+c)//2+1
    return t,c,q
units=[mt for n,mt in rows if n.startswith('BenchmarkTier/units')][0]
print('units',units)
cl=[];ag=[];co=[]
for n,mt in rows:
    m=re.match(r'BenchmarkTier/(client|aggregator|combine)/(\w+)/g=(\d+)/k=(\d+)(?:/drop=(\d+)%|/m=(\d+))?',n)
    if not m: continue
    kind,reg,g,k=m[1],m[2],int(m[3]),int(m[4])
    t,c,q=params(reg,g,k)
    if kind=='client': cl.append((reg,g,k,t,q,mt))
    elif kind=='aggregator': ag.append((reg,g,k,t,q,int(m[5]),mt))
    else: co.append((reg,g,k,t,q,int(m[6]),mt))
print('client')
A=[[1,k,q] for reg,g,k,t,q,mt in cl]; b=[mt['cpu-ms-min'] for *_,mt in cl]
xc=solve(A,b); print('fit alpha,beta(k),nu(q) ms:',xc)
for (reg,g,k,t,q,mt),row in zip(cl,A): print(reg,g,k,q,'meas',mt['cpu-ms-min'],'pred %.1f'%sum(a*x for a,x in zip(row,xc)),'up',mt.get('up-B'),'down',mt.get('down-B'))
print('aggregator')
A=[];b=[]
for reg,g,k,t,q,drop,mt in ag:
    drops=g*drop//100
    A.append([g*k, g, g*t*t, drops*k]); b.append(mt['cpu-ms-min'])
xa=solve(A,b); print('fit per g*k, per g, per g*t^2, per drop*k (ms):',xa)
for (reg,g,k,t,q,drop,mt),row in zip(ag,A): print(reg,g,k,t,drop,'meas',mt['cpu-ms-min'],'pred %.1f'%sum(a*x for a,x in zip(row,xa)),'B/op',mt.get('B/op'))
print('combine')
A=[[m*q, m] for reg,g,k,t,q,m,mt in co]; b=[mt['cpu-ms-min'] for *_,mt in co]
xo=solve(A,b)
if xo[1]<0:  # a negative per-group constant is noise: fit through the origin
    xo=[solve([[r[0]] for r in A],b)[0],0.0]
print('fit per m*q, per m (ms):',xo)
for (reg,g,k,t,q,m,mt),row in zip(co,A): print(reg,g,q,m,'meas',mt['cpu-ms-min'],'pred %.1f'%sum(a*x for a,x in zip(row,xo)))

a,b,nu=xc; x1,x2,x3,x4=xa; y1,y2=xo
print('n = 10,000 estimate')
d=100000; S_sh=450; BW=125e6  # 1 Gbit/s in bytes/s
n=10000; drop=0.05
def kq(regime,g):
    if regime=='sparse': c=7; k=16
    elif regime=='dense-min':
        c=ceil(g/3)-1; t=c+1; k=t+ceil(g/20); k+=k%2
    else: # dense-full
        c=ceil(g/3)-1; k=g-1
    if k>=g-1: k=g-1
    t=max(k//2+1,c+1); q=(g+c)//2+1
    return k,t,c,q
def est(regime,g):
    k,t,c,q=kq(regime,g)
    m=ceil(n/g)
    gg=n/m if m>1 else n
    drops=drop*gg
    cl=a+b*k+nu*q
    ag=x1*gg*k+x2*gg+x3*gg*t*t+x4*drops*k
    co=(y1*m*q+y2*m) if m>1 else 0.0
    agin=gg*(4*d+k*S_sh)           # bytes into one aggregator
    coin=m*4*d if m>1 else 0
    mem=4*d+gg*k*S_sh               # aggregator retained: sum + relayed shares
    rt=cl+ag+co+1e3*(agin+coin)/BW   # ms, critical path
    return dict(regime=regime,g=g,m=m,k=k,t=t,c=c,q=q,client=cl,agg=ag,comb=co,aggtot=ag*m,agin=agin,coin=coin,mem=mem,round=rt)
for regime in ['sparse','dense-min','dense-full']:
    for g in [100,300,1000,n]:
        e=est(regime,g)
        print("| %s | %s | %d | %d/%d/%d/%d | %.0f ms | %s | %s | %s | %.0f MB | %.0f MB | %s |"%(
            regime, 'one coordinator' if g==n else 'g = %d'%g, e['m'], e['k'],e['t'],e['c'],e['q'],
            e['client'],
            ('%.2f s'%(e['agg']/1e3)) if g!=n else '—',
            ('%.2f s'%(e['comb']/1e3)) if g!=n else ('%.1f s'%(e['agg']/1e3)),
            '%.1f s'%((e['aggtot']+e['comb'])/1e3),
            (e['agin'] if g!=n else e['agin'])/1e6, e['mem']/1e6,
            ('%.1f s'%(e['round']/1e3)) ))

# §3: expected number of groups (union bound) with more than c corrupt
# members per round, n = 10,000, corruption independent of the partition.
from math import lgamma, exp
def lc(N, K): return lgamma(N+1)-lgamma(K+1)-lgamma(N-K+1)
def tail(N, K, g, c):
    return sum(exp(lc(K, x)+lc(N-K, g-x)-lc(N, g)) for x in range(c+1, min(K, g)+1))
print('corrupt-member tails (§3)')
for frac in [0.01, 0.05, 0.10, 0.20]:
    K = int(frac*n)
    cells = []
    for g, c in [(100, 33), (300, 99), (1000, 333), (100, 7), (1000, 7)]:
        cells.append('%.0e' % (ceil(n/g)*tail(n, K, g, c)))
    print('| %d %% | %s |' % (round(frac*100), ' | '.join(cells)))
