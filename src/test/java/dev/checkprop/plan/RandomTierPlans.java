package dev.checkprop.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random valid tiered plans, for tests: a heap-only plan with writes inserted after random forwards,
 * random recomputations replaced by reads of a held copy (hoisted earlier by a random number of
 * actions that do not touch the layer, so reads overlap computation), and discards after each copy's
 * last read. Every result passes {@link PlanChecker} (it is built), so a generator bug fails loudly.
 */
public final class RandomTierPlans {

    private RandomTierPlans() {
    }

    /** One random tiered plan derived from {@code base}. */
    public static Plan derive(Plan base, Random rnd, double writeChance, double readChance) {
        final int L = base.layers();
        final Tier[] tiers = Tier.values();
        // Tokens as (op, layer, tier); the transformation works on a list, then builds once.
        final List<int[]> acts = new ArrayList<>();
        final boolean[] copy = new boolean[L + 1];
        final boolean[] live = new boolean[L + 1];
        for (int i = 0; i < base.size(); i++) {
            final Plan.Op op = base.op(i);
            final int l = base.layer(i);
            if (op == Plan.Op.FORWARD && copy[l] && rnd.nextDouble() < readChance) {
                // A read instead of the recomputation, hoisted over actions that do not name layer l.
                int at = acts.size();
                final int hoist = rnd.nextInt(4);
                for (int h = 0; h < hoist && at > 0 && acts.get(at - 1)[1] != l; h++) {
                    at--;
                }
                acts.add(at, new int[] {Plan.Op.READ.ordinal(), l, -1});
                live[l] = true;
                continue;
            }
            acts.add(new int[] {op.ordinal(), l, -1});
            if (op == Plan.Op.FORWARD) {
                live[l] = true;
                if (!copy[l] && rnd.nextDouble() < writeChance) {
                    acts.add(new int[] {Plan.Op.WRITE.ordinal(), l, rnd.nextInt(tiers.length)});
                    copy[l] = true;
                }
            } else if (op == Plan.Op.DROP) {
                live[l] = false;
            }
        }
        // Discard each copy right after its last read, or after its write if never read.
        final int[] lastUse = new int[L + 1];
        java.util.Arrays.fill(lastUse, -1);
        for (int i = 0; i < acts.size(); i++) {
            final int[] a = acts.get(i);
            if (a[0] == Plan.Op.WRITE.ordinal() || a[0] == Plan.Op.READ.ordinal()) {
                lastUse[a[1]] = i;
            }
        }
        final Plan.Builder b = Plan.builder(base.name() + "+tiers", L);
        for (int i = 0; i < acts.size(); i++) {
            final int[] a = acts.get(i);
            final Plan.Op op = Plan.Op.values()[a[0]];
            switch (op) {
                case FORWARD -> b.forward(a[1]);
                case DROP -> b.drop(a[1]);
                case LOSS -> b.loss();
                case BACKWARD -> b.backward(a[1]);
                case WRITE -> b.write(a[1], tiers[a[2]]);
                case READ -> b.read(a[1]);
                default -> throw new AssertionError(op);
            }
            if (lastUse[a[1]] == i && (op == Plan.Op.WRITE || op == Plan.Op.READ)) {
                // After the action, never before the read's own use: a discard leaves the heap buffer alone.
                b.discard(a[1]);
            }
        }
        return b.build();
    }

    /**
     * Full offloading: every a^l written to {@code tierOf[l]} after its forward and dropped from the
     * heap once a^(l+1) is computed; in the backward pass a^(l-1) is read while layer l's backward runs.
     * Heap: three states at most; no recomputation.
     */
    public static Plan offload(int L, Tier[] tierOf) {
        final Plan.Builder b = Plan.builder("offload", L);
        for (int l = 1; l <= L; l++) {
            b.forward(l);
            if (l < L) {
                b.write(l, tierOf[l]);
            }
            if (l > 1) {
                b.drop(l - 1);
            }
        }
        b.loss();
        if (L > 1) {
            b.read(L - 1);
        }
        for (int l = L; l >= 1; l--) {
            if (l > 2) {
                b.read(l - 2); // prefetch: the read of a^(l-2) overlaps B l
            }
            b.backward(l);
            b.drop(l);
            if (l < L) {
                b.discard(l);
            }
        }
        return b.build();
    }
}
