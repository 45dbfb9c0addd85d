package dev.checkprop.plan;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A fixed sweep of planner inputs (chain lengths, buffer counts, byte budgets, random chains of
 * every shape the dynamic programs serve, and the fallbacks past their limits) and one line per
 * resulting plan: its id, name, action count and a SHA-256 prefix of its actions. The lines in
 * {@code pinned-plans.txt} were written by {@link #main} with the planners as they were before their
 * scaffolding was shared (issue 12); {@link PinnedPlansTest} checks that today's planners give the
 * same lines, so that every refactoring of plan/ is proven not to change a single action.
 *
 * <p>Regenerate only when a planner is meant to change its plans:
 * {@code java -cp target/classes:target/test-classes:<fastutil> dev.checkprop.plan.PinnedPlans
 * src/test/resources/dev/checkprop/plan/pinned-plans.txt}.
 */
final class PinnedPlans {

    static final String RESOURCE = "/dev/checkprop/plan/pinned-plans.txt";

    private PinnedPlans() {
    }

    /** Answers the lines of the sweep, in order. */
    static List<String> lines() {
        final List<String> out = new ArrayList<>();
        // optimal:M by count: every M on short chains, a spread of M on longer ones.
        for (int L = 1; L <= 40; L++) {
            final int layers = L;
            for (int m = 1; m <= L + 1; m++) {
                final int mm = m;
                add(out, "optimal L=" + L + " M=" + m, () -> new OptimalPlanner(mm).plan(layers));
            }
        }
        for (int L : new int[] {50, 64, 97, 128, 200, 333, 500}) {
            for (int m : new int[] {2, 3, 4, 5, 6, 8, 11, 16, 23, 32, 64, L}) {
                add(out, "optimal L=" + L + " M=" + m, () -> new OptimalPlanner(m).plan(L));
            }
        }
        // optimal:M by cost: arbitrary costs (SlotDp with unit sizes), real-network costs (PiecewiseDp).
        final Random r = new Random(12_2024);
        for (int trial = 0; trial < 60; trial++) {
            final int L = 2 + r.nextInt(13);
            final Chain chain = trial % 2 == 0 ? randomAnything(r, L) : randomPiecewise(r, L + r.nextInt(40));
            for (int m = 2; m <= chain.layers() + 1; m += 1 + chain.layers() / 8) {
                final int mm = m;
                add(out, "optimal-chain #" + trial + " M=" + m, () -> new OptimalPlanner(mm).plan(chain));
            }
        }
        // budget:BYTES on the count model and on chains of every shape, at budgets from below the minimum up.
        for (int L = 1; L <= 24; L++) {
            for (long budget = 1; budget <= L + 1; budget++) {
                final long bb = budget;
                final Chain chain = Chain.uniform(L);
                add(out, "budget-uniform L=" + L + " B=" + budget, () -> new BudgetPlanner(bb).solve(chain));
            }
        }
        for (int trial = 0; trial < 160; trial++) {
            final int kind = trial % 5;
            final Chain chain = switch (kind) {
                case 0 -> randomWidths(r, 1 + r.nextInt(10), 4096);
                case 1 -> randomAnything(r, 1 + r.nextInt(10));
                case 2 -> randomEqualSizes(r, 1 + r.nextInt(14));
                case 3 -> randomPiecewise(r, 1 + r.nextInt(60));
                default -> Chain.uniform(1 + r.nextInt(40), 1 + r.nextInt(9), 1 + r.nextInt(9));
            };
            for (long budget : budgets(chain)) {
                final String id = "budget-chain #" + trial + " B=" + budget;
                add(out, id, () -> new BudgetPlanner(budget).solve(chain));
            }
            // The fallbacks, forced by zero work limits, and thinning, forced by the smallest slot limit.
            final long mid = chain.minBudget() + (chain.totalBytes() - chain.minBudget()) / 3;
            add(out, "budget-persistent #" + trial, () -> new BudgetPlanner(mid, 64, 0, Long.MAX_VALUE).solve(chain));
            add(out, "budget-heuristic #" + trial, () -> new BudgetPlanner(mid, 64, 0, 0).solve(chain));
            if (kind <= 1) {
                add(out, "budget-thinned #" + trial, () -> new BudgetPlanner(mid, 32).solve(chain));
            }
        }
        for (int trial = 0; trial < 6; trial++) {
            final Chain chain = trial % 2 == 0 ? randomAnything(r, 18 + trial) : randomWidths(r, 18 + trial, 1000);
            final long mid = chain.minBudget() + (chain.totalBytes() - chain.minBudget()) / 3;
            add(out, "budget-thinned-long #" + trial, () -> new BudgetPlanner(mid, 32).solve(chain));
            add(out, "budget-exact-long #" + trial, () -> new BudgetPlanner(mid).solve(chain));
        }
        // The programs directly, with their own quanta and limits.
        for (int trial = 0; trial < 40; trial++) {
            final Chain chain = trial % 2 == 0 ? randomWidths(r, 2 + r.nextInt(8), 8) : randomEqualSizes(r, 2 + r.nextInt(10));
            for (long budget : budgets(chain)) {
                if (budget < chain.minBudget() || budget >= chain.totalBytes()) {
                    continue;
                }
                final String id = "#" + trial + " B=" + budget;
                add(out, "slot-gcd " + id, () -> SlotDp.solve(chain, budget, SlotDp.gcd(chain)).emit(Plan.builder("s", chain.layers())));
                final long q = Math.max(1, budget / 5 + 3);
                add(out, "slot-coarse " + id, () -> SlotDp.solve(chain, budget, q).emit(Plan.builder("s", chain.layers())));
                add(out, "slide " + id, () -> SlideDp.solve(chain, budget, Integer.MAX_VALUE, Long.MAX_VALUE)
                        .emit(Plan.builder("s", chain.layers())));
            }
        }
        for (int trial = 0; trial < 40; trial++) {
            final Chain chain = trial % 3 == 0 ? Chain.uniform(2 + r.nextInt(30), 1 + r.nextInt(9), 1 + r.nextInt(9))
                    : randomPiecewise(r, 2 + r.nextInt(trial < 20 ? 12 : 120));
            for (long budget : budgets(chain)) {
                if (budget < chain.minBudget() || budget >= chain.totalBytes()) {
                    continue;
                }
                add(out, "piecewise #" + trial + " B=" + budget, () -> new PiecewiseDp(chain, budget)
                        .emit(Plan.builder("p", chain.layers())));
            }
        }
        // So many buffers that the exact tables would not fit: binomial within the budget.
        final Chain wide = Chain.uniform(10_000, 16, 3);
        add(out, "budget-wide", () -> new BudgetPlanner(16L * 4000).solve(wide));
        return out;
    }

    /** Budgets from one below the minimum to full storage: the minimum, a dozen steps, and the total. */
    private static long[] budgets(Chain chain) {
        final long min = chain.minBudget();
        final long total = chain.totalBytes();
        final long[] b = new long[14];
        b[0] = Math.max(1, min - 1);
        for (int k = 0; k <= 11; k++) {
            b[1 + k] = min + (total - min) * k / 11;
        }
        b[13] = total - 1;
        return java.util.Arrays.stream(b).filter(x -> x >= 1).distinct().toArray();
    }

    /** Adds the line of a plan, or of a {@link BudgetPlanner.Solution} (with its method), or of what was thrown. */
    private static void add(List<String> out, String id, Supplier<?> planner) {
        String line;
        try {
            final Object made = planner.get();
            final Plan p = made instanceof BudgetPlanner.Solution s ? s.plan() : (Plan) made;
            line = id + "\t" + p.name() + "\t" + p.size() + "\t" + digest(p.actionsText());
            if (made instanceof BudgetPlanner.Solution s) {
                line += "\t" + s.method() + (s.exact() ? "" : " approx");
            }
        } catch (RuntimeException e) {
            line = id + "\tthrows " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        out.add(line);
    }

    private static String digest(String text) {
        try {
            final byte[] h = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(h, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Widths 1..4 for a^0..a^L: bytes = quantum * width, cost = product of adjacent widths. */
    private static Chain randomWidths(Random r, int layers, long quantum) {
        final long[] w = new long[layers + 1];
        for (int l = 0; l <= layers; l++) {
            w[l] = 1 + r.nextInt(4);
        }
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        for (int l = 1; l <= layers; l++) {
            bytes[l - 1] = quantum * w[l];
            cost[l - 1] = w[l] * w[l - 1];
        }
        return Chain.of(bytes, cost);
    }

    /** Sizes and costs with no common structure at all. */
    private static Chain randomAnything(Random r, int layers) {
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        for (int l = 0; l < layers; l++) {
            bytes[l] = 1 + r.nextInt(40);
            cost[l] = 1 + r.nextInt(20);
        }
        return Chain.of(bytes, cost);
    }

    /** Every size but the last equal; every cost random; the last size anything. */
    private static Chain randomEqualSizes(Random r, int layers) {
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        final long size = 8 * (1 + r.nextInt(3));
        for (int l = 0; l < layers; l++) {
            bytes[l] = size;
            cost[l] = 1 + r.nextInt(20);
        }
        bytes[layers - 1] = 1 + r.nextInt(40);
        return Chain.of(bytes, cost);
    }

    /** The shape of real networks: sizes b..b, bL; costs c1, c..c, cL. */
    private static Chain randomPiecewise(Random r, int layers) {
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        final long size = 1 + r.nextInt(50);
        final long c = 1 + r.nextInt(30);
        java.util.Arrays.fill(bytes, size);
        java.util.Arrays.fill(cost, c);
        bytes[layers - 1] = 1 + r.nextInt(80);
        cost[0] = 1 + r.nextInt(60);
        cost[layers - 1] = 1 + r.nextInt(60);
        return Chain.of(bytes, cost);
    }

    /** Writes the sweep's lines to the file named by the argument. */
    public static void main(String[] args) throws IOException {
        Files.write(Path.of(args[0]), lines(), StandardCharsets.US_ASCII);
    }
}
