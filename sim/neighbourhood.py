"""The neighbourhood network: households on streets, who sees whose street, who knows whom.

Households are nodes. Streets are rows of houses on two sides; streets are laid out on a grid of
blocks, so that the drawn network looks like a street plan. Two kinds of edges:
- ``sight``: houses on the same street within ``sight_range`` houses (both sides) can see each
  other's front door;
- ``social``: acquaintances, mostly on the same or a neighbouring street.
Groups are street-level: the streets are split into ``round(members / group_size)`` contiguous
territories (k-means over the streets' centres), one group each; a household can only be in the
group of its own street. Within a territory, membership is spatially clustered: the group covers
the houses nearest a random house there, and a share of households there joins. Two groups are
adjacent when their territories border (streets next to each other in the plan).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from sim.params import Params


@dataclass
class Neighbourhood:
    positions: np.ndarray       # (n, 2) x, y of each household
    street: np.ndarray          # street index of each household
    sight_ptr: np.ndarray       # CSR: sight neighbours of i are sight_idx[sight_ptr[i]:sight_ptr[i+1]]
    sight_idx: np.ndarray
    social_src: np.ndarray      # social ties as directed pairs (both directions present)
    social_dst: np.ndarray
    member: np.ndarray          # bool, in a group at the start
    admins: list[int]           # every group's admins, sorted
    group: np.ndarray           # group of each household at the start (-1: none)
    home_group: np.ndarray      # the group over each household's street: the one it may join
    group_admins: list[list[int]]   # admins of each group
    adjacent: list[list[int]]       # groups whose territories border each group's

    @property
    def n_groups(self) -> int:
        return len(self.group_admins)

    @property
    def n(self) -> int:
        return len(self.street)

    def in_sight(self, node: int) -> np.ndarray:
        """Households that can see ``node``'s front door (``node`` itself included)."""
        return self.sight_idx[self.sight_ptr[node]:self.sight_ptr[node + 1]]

    def on_street(self, node: int) -> np.ndarray:
        """Households on ``node``'s street (within walking distance of its front door)."""
        return np.flatnonzero(self.street == self.street[node])

    def graph(self) -> nx.Graph:
        """The network as networkx, edges tagged ``kind`` = sight | social."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        src = np.repeat(np.arange(self.n), np.diff(self.sight_ptr))
        sight = src < self.sight_idx
        g.add_edges_from(zip(src[sight].tolist(), self.sight_idx[sight].tolist()), kind="sight")
        social = self.social_src < self.social_dst
        g.add_edges_from(zip(self.social_src[social].tolist(), self.social_dst[social].tolist()),
                         kind="social")
        return g


def build(p: Params, rng: np.random.Generator) -> Neighbourhood:
    """A neighbourhood of ``p.n_households`` households (the rng is the network stream)."""
    n, per_street = p.n_households, p.houses_per_street
    idx = np.arange(n)
    street, house = idx // per_street, idx % per_street
    n_streets = street[-1] + 1
    street_length = per_street / 2 + 2          # houses face each other; a gap between blocks
    streets_per_row = max(1, round(math.sqrt(3.0 * n_streets / street_length)))  # a square plan
    block_x, block_y = street % streets_per_row, street // streets_per_row
    positions = np.column_stack([block_x * street_length + house // 2,
                                 block_y * 3.0 + (house % 2) * 1.0])

    sight_ptr, sight_idx = _sight(street, house, p.sight_range)
    social_src, social_dst = _social_ties(street, n_streets, per_street, n, p.social_ties, rng)
    n_members = round(p.coverage * n)
    n_groups = max(1, round(n_members / p.group_size), math.ceil(n_members / p.member_cap))
    territory = _territories(positions, street, n_streets, min(n_groups, n_streets), rng)
    home_group = territory[street]
    group = np.full(n, -1, dtype=np.int64)
    group_admins = []
    for g, size in enumerate(_apportion(n_members, np.bincount(home_group))):
        houses = np.flatnonzero(home_group == g)
        size = min(size, len(houses), p.member_cap)
        joined = houses[_membership(positions[houses], size, p.area_join_share, rng)]
        group[joined] = g
        n_admins = min(p.n_admins, len(joined))
        group_admins.append(sorted(int(a) for a in rng.choice(joined, size=n_admins, replace=False))
                            if n_admins else [])
    grid_neighbours = [(a, b) for a in range(n_streets) for b in (a + 1, a + streets_per_row)
                       if b < n_streets and (b == a + streets_per_row or block_y[a * per_street] == block_y[b * per_street])]
    adjacent = [set() for _ in group_admins]
    for a, b in grid_neighbours:
        if territory[a] != territory[b]:
            adjacent[territory[a]].add(int(territory[b]))
            adjacent[territory[b]].add(int(territory[a]))
    return Neighbourhood(positions, street, sight_ptr, sight_idx, social_src, social_dst, group >= 0,
                         sorted(a for admins in group_admins for a in admins), group, home_group,
                         group_admins, [sorted(g) for g in adjacent])


def _apportion(total: int, weights: np.ndarray) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders): each territory's members
    in proportion to its households, so coverage is the same everywhere."""
    share = total * weights / weights.sum()
    parts = np.floor(share).astype(np.int64)
    parts[np.argsort(parts - share, kind="stable")[:total - parts.sum()]] += 1
    return parts.tolist()


def _territories(positions: np.ndarray, street: np.ndarray, n_streets: int, k: int,
                 rng: np.random.Generator, rounds: int = 10) -> np.ndarray:
    """The group (0..k-1) of each street: k contiguous territories of similar size (k-means over
    the streets' centres, started from a random street and the streets farthest from the chosen)."""
    seeds = [int(rng.integers(n_streets))]   # drawn even for one territory: the stream stays aligned
    if k == 1:
        return np.zeros(n_streets, dtype=np.int64)
    # each street's centre (positions are multiples of 0.5, so these sums are exact in any order)
    houses = np.bincount(street, minlength=n_streets)
    centres = np.column_stack([np.bincount(street, weights=positions[:, j], minlength=n_streets) / houses
                               for j in range(2)])
    nearest_seed = np.hypot(*(centres - centres[seeds[0]]).T)   # each street's distance to its nearest seed
    while len(seeds) < k:
        seeds.append(int(np.argmax(nearest_seed)))
        nearest_seed = np.minimum(nearest_seed, np.hypot(*(centres - centres[seeds[-1]]).T))
    def nearest(means):
        return np.argmin(np.hypot(*(centres[:, None, :] - means[None]).transpose(2, 0, 1)), axis=1)

    means, label = centres[seeds], None
    for _ in range(rounds):
        previous, label = label, nearest(means)
        if previous is not None and np.array_equal(label, previous):
            break   # a fixed point: the same labels give the same means, so every later round is this one
        means = np.array([centres[label == g].mean(axis=0) if (label == g).any() else means[g] for g in range(k)])
    else:
        label = nearest(means)
    return np.unique(label, return_inverse=True)[1]  # groups without a street dropped, renumbered


def _sight(street: np.ndarray, house: np.ndarray, sight_range: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR lists of households on the same street within ``sight_range`` house positions, each
    list in house order."""
    order = np.lexsort((house, street))
    # one number per position along a street, streets far apart: who is in sight is a window
    along = street * (house.max(initial=0) + 2 * sight_range + 2) + house // 2
    sorted_along = along[order]
    first = np.searchsorted(sorted_along, along - sight_range, side="left")
    count = np.searchsorted(sorted_along, along + sight_range, side="right") - first
    ptr = np.concatenate([[0], np.cumsum(count)])
    idx = order[np.repeat(first - ptr[:-1], count) + np.arange(ptr[-1])]
    return ptr, idx.astype(np.int64)


def _social_ties(street, n_streets, per_street, n, mean_ties, rng):
    """Acquaintances: each household starts ~mean_ties/2 ties to the same or an adjacent street."""
    k = rng.poisson(mean_ties / 2, size=n)
    src = np.repeat(np.arange(n), k)
    target_street = np.clip(street[src] + rng.integers(-1, 2, size=len(src)), 0, n_streets - 1)
    street_size = np.bincount(street, minlength=n_streets)
    dst = target_street * per_street + (rng.random(len(src)) * street_size[target_street]).astype(np.int64)
    keep = src != dst
    low, high = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    pairs = np.unique(low * n + high)          # each pair once, in (low, high) order
    a, b = pairs // n, pairs % n
    return np.concatenate([a, b]), np.concatenate([b, a])


def _membership(positions, n_members, join_share, rng) -> np.ndarray:
    """The group covers the households nearest a random one; ``join_share`` of those join.

    Returns the indices (into ``positions``) of the ``n_members`` members."""
    n = len(positions)
    if n_members == 0:
        return np.empty(0, dtype=np.int64)
    centre = positions[rng.integers(n)]
    nearest = np.argsort(np.hypot(*(positions - centre).T), kind="stable")
    area = nearest[:min(n, math.ceil(n_members / join_share))]
    return np.sort(rng.choice(area, size=n_members, replace=False))
