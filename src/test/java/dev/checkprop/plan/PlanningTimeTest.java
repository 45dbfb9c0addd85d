package dev.checkprop.plan;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, case 5: at 10^6 layers every planner finishes in seconds, or refuses at once saying why
 * and what to use instead. (optimal:16 used to take minutes: its m = 2 row scanned every split.)
 */
class PlanningTimeTest {

    private static final int L = 1_000_000;

    private static Plan timed(String what, java.util.function.Supplier<Plan> planner) {
        long t0 = System.nanoTime();
        Plan p = planner.get();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 20, what + " took " + seconds + " s");
        assertEquals(L, p.layers());
        return p;
    }

    @Test
    void everyPlannerAtAMillionLayersFinishesInSeconds() {
        for (String spec : new String[] {"full", "uniform:1000", "sqrt", "binomial:16", "optimal:16"}) {
            timed(spec, () -> Planners.parse(spec).plan(L));
        }
        // The optimal count is the DP's; the plan it emits spends exactly that.
        Plan optimal = new OptimalPlanner(16).plan(L);
        assertEquals(OptimalPlanner.minEvaluations(L, 16), optimal.stats().forwardEvaluations());
        assertTrue(optimal.stats().peakLiveBuffers() <= 16);
        // A budget so wide that the exact tables would not fit: binomial checkpointing within the budget.
        Chain chain = Chain.uniform(L, 1024, 1);
        Plan wide = timed("budget:64MiB", () -> new BudgetPlanner(64L << 20).plan(chain));
        assertEquals("budget:64MiB (approx)", wide.name());
        assertTrue(wide.cost(chain).peakBytes() <= 64L << 20);
    }

    @Test
    void plansThatCannotBeHeldAreRefusedUpFrontWithAnAlternative() {
        long t0 = System.nanoTime();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new OptimalPlanner(2).plan(L));
        long evaluations = OptimalPlanner.minEvaluations(L, 2); // the tables alone are small
        assertTrue(e.getMessage().startsWith("optimal:2 cannot serve 1000000 layers: the plan would need " + evaluations
                + " forward evaluations (" + (2 * evaluations + L + 1) + " actions) but this JVM can hold plans of up to "),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("; use more buffers (optimal:M with a larger M) or a larger -Xmx"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BinomialPlanner(1).plan(L));
        assertTrue(e.getMessage().endsWith("; use more snapshots (binomial:S with a larger S) or a larger -Xmx"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refusals must come before the work");
    }
}
