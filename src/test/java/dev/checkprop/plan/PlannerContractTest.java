package dev.checkprop.plan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What every planner promises, and the planner strings of the command line. */
class PlannerContractTest {

    static final String[] SPECS = {
            "full", "uniform:1", "uniform:2", "uniform:3", "uniform:7", "sqrt", "binomial:1", "binomial:2",
            "binomial:4", "binomial:8", "optimal:2", "optimal:3", "optimal:8", "optimal:64", "budget:2", "budget:8",
            "budget:64"};

    /** Plans {@code layers} layers: by length, or, for a budget, on a chain of one byte per activation. */
    private static Plan plan(Planner planner, int layers) {
        return planner.needsChain() ? planner.plan(Chain.uniform(layers)) : planner.plan(layers);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5, 10, 100, 1000})
    void everyPlannerGivesAValidPlanThatBackpropagatesEachLayerOnceInOrder(int layers) {
        for (String spec : SPECS) {
            Planner planner = Planners.parse(spec);
            if (planner instanceof OptimalPlanner o && o.maxBuffers() < OptimalPlanner.minBuffers(layers)) {
                continue;
            }
            Plan p = plan(planner, layers);
            String what = spec + " L=" + layers;
            assertEquals(spec, p.name(), what);
            assertEquals(layers, p.layers(), what);
            int forwards = 0;
            int drops = 0;
            int losses = 0;
            int nextBackward = layers;
            int[] perLayer = new int[layers + 1];
            for (int i = 0; i < p.size(); i++) {
                switch (p.op(i)) {
                    case FORWARD -> {
                        forwards++;
                        perLayer[p.layer(i)]++;
                    }
                    case DROP -> drops++;
                    case LOSS -> {
                        losses++;
                        assertEquals(layers, nextBackward, what + ": loss after a backward");
                    }
                    case BACKWARD -> {
                        assertEquals(1, losses, what + ": backward before the loss");
                        assertEquals(nextBackward, p.layer(i), what + ": backward order");
                        nextBackward--;
                    }
                }
            }
            assertEquals(1, losses, what);
            assertEquals(0, nextBackward, what);
            PlanStats s = p.stats();
            assertEquals(forwards, s.forwardEvaluations(), what);
            assertEquals(forwards, drops, what + ": every buffer is dropped exactly once");
            assertEquals(layers + 1, s.evaluationsPerLayer().length, what);
            for (int l = 1; l <= layers; l++) {
                assertEquals(perLayer[l], s.evaluationsPerLayer()[l], what + " layer " + l);
                assertTrue(perLayer[l] >= 1, what + " layer " + l);
            }
            assertEquals(forwards - layers, s.recomputations(), what);
            assertTrue(s.peakLiveBuffers() >= Math.min(layers, 2) && s.peakLiveBuffers() <= layers, what);
            assertEquals(Plan.Op.FORWARD, p.op(s.peakAction()), what);
            // Planners are pure functions.
            assertEquals(p, plan(planner, layers), what);
            assertEquals(p, Plan.parse("copy", layers, p.actionsText()), what);
        }
    }

    @Test
    void everyPlannerRejectsAnEmptyChain() {
        for (String spec : SPECS) {
            Planner planner = Planners.parse(spec);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> plan(planner, 0));
            assertTrue(e.getMessage().contains("at least 1 layer, got 0"), spec + ": " + e.getMessage());
        }
    }

    /** Only a byte budget needs a chain; asked for a length alone it refuses, naming what to call. */
    @Test
    void onlyByteBudgetsNeedAChainAndTheyRefuseALengthAlone() {
        for (String spec : SPECS) {
            Planner planner = Planners.parse(spec);
            assertEquals(spec.startsWith("budget:"), planner.needsChain(), spec);
            if (planner.needsChain()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> planner.plan(10));
                assertTrue(e.getMessage().startsWith(spec + " is a byte budget: it needs the network and the batch"),
                        e.getMessage());
                assertTrue(e.getMessage().contains("PlanSelection.select(\"" + spec + "\", network, batch)"), e.getMessage());
            } else {
                // The count-based planners plan a chain as its length.
                assertEquals(planner.plan(10), planner.plan(Chain.uniform(10)), spec);
            }
        }
        Planner lambda = layers -> new FullStoragePlanner().plan(layers);
        assertTrue(!lambda.needsChain(), "a planner needs no chain unless it says so");
    }

    @Test
    void uniformSpendsExactlyLPlusSegmentRecomputations() {
        for (int layers = 1; layers <= 200; layers++) {
            for (int k = 1; k <= layers + 2; k++) {
                Plan p = new UniformPlanner(k).plan(layers);
                long segments = (layers + k - 1) / k;
                assertEquals(layers + (segments - 1) * (k - 1), p.stats().forwardEvaluations(), "L=" + layers + " K=" + k);
                assertEquals(k, new UniformPlanner(k).segmentLength());
            }
        }
    }

    @Test
    void uniformWithAHugeSegmentIsFullStorage() {
        for (int k : new int[] {1000, Integer.MAX_VALUE - 1, Integer.MAX_VALUE}) {
            Plan p = new UniformPlanner(k).plan(10);
            assertEquals(new FullStoragePlanner().plan(10).actionsText(), p.actionsText(), "K=" + k);
        }
        assertEquals(new FullStoragePlanner().plan(10).actionsText(), new UniformPlanner(1).plan(10).actionsText());
    }

    @Test
    void sqrtIsUniformWithTheCeilingOfTheSquareRoot() {
        for (int layers = 1; layers <= 300; layers++) {
            int k = 1;
            while (k * k < layers) {
                k++;
            }
            assertEquals(k, SqrtPlanner.ceilSqrt(layers), "L=" + layers);
            Plan sqrt = new SqrtPlanner().plan(layers);
            assertEquals(new UniformPlanner(k).plan(layers), sqrt, "L=" + layers);
            assertEquals("sqrt", sqrt.name());
        }
        assertEquals(46341, SqrtPlanner.ceilSqrt(Integer.MAX_VALUE));
        assertEquals(46340, SqrtPlanner.ceilSqrt(46340 * 46340));
        assertEquals(46341, SqrtPlanner.ceilSqrt(46340 * 46340 + 1));
    }

    @ParameterizedTest
    @CsvSource({
            "full, full, FullStoragePlanner",
            "sqrt, sqrt, SqrtPlanner",
            "uniform:3, uniform:3, UniformPlanner",
            "binomial:4, binomial:4, BinomialPlanner",
            "optimal:6, optimal:6, OptimalPlanner",
            "'  Uniform:12 ', uniform:12, UniformPlanner",
            "BINOMIAL:1, binomial:1, BinomialPlanner",
            "budget:64MiB, budget:64MiB, BudgetPlanner",
            "Budget:1.5GiB, budget:1536MiB, BudgetPlanner",
            "budget:1000, budget:1000, BudgetPlanner",
            "budget:4096 B, budget:4KiB, BudgetPlanner",
    })
    void parseAccepts(String spec, String name, String type) {
        Planner p = Planners.parse(spec);
        assertEquals(name, p.toString());
        assertEquals(type, p.getClass().getSimpleName());
        assertEquals(name, plan(p, 5).name());
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "uniform:0; uniform:K needs K >= 1, got 0",
            "uniform:-2; uniform:K needs K >= 1, got -2",
            "binomial:0; binomial:S needs S >= 1, got 0",
            "optimal:0; optimal:M needs M >= 1, got 0",
            "foo; unknown plan 'foo' (expected full | uniform:K | sqrt | binomial:S | optimal:M | budget:BYTES | tiered:HEAP_BYTES[,offheap:BYTES][,disk:BYTES])",
            "''; unknown plan ''",
            "uniform; plan 'uniform' needs a parameter K",
            "uniform:; plan 'uniform:' needs a parameter K",
            "binomial; plan 'binomial' needs a parameter S",
            "optimal; plan 'optimal' needs a parameter M",
            "uniform:x; plan 'uniform:x': K must be an integer, got 'x'",
            "optimal:1.5; plan 'optimal:1.5': M must be an integer, got '1.5'",
            "binomial:99999999999; S must be an integer, got '99999999999'",
            "full:3; plan 'full:3' takes no parameter",
            "sqrt:2; plan 'sqrt:2' takes no parameter",
            "budget; plan 'budget' needs a parameter BYTES",
            "budget:; plan 'budget:' needs a parameter BYTES",
            "budget:0; plan 'budget:0': the budget must be at least 1 byte",
            "budget:lots; plan 'budget:lots': bytes 'lots': not a size",
            "budget:64XB; plan 'budget:64XB': bytes '64XB': unknown unit 'XB'",
    })
    void parseRejectsNamingTheArgument(String spec, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Planners.parse(spec));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void parameterRangeIsCheckedByTheConstructorsToo() {
        assertThrows(IllegalArgumentException.class, () -> new UniformPlanner(0));
        assertThrows(IllegalArgumentException.class, () -> new BinomialPlanner(-1));
        assertThrows(IllegalArgumentException.class, () -> new OptimalPlanner(Integer.MIN_VALUE));
        assertInstanceOf(Planner.class, Planners.parse("optimal:" + Integer.MAX_VALUE));
        assertEquals(7, Planners.parse("optimal:" + Integer.MAX_VALUE).plan(7).stats().forwardEvaluations());
        assertEquals(13, Planners.parse("binomial:" + Integer.MAX_VALUE).plan(7).stats().forwardEvaluations());
    }
}
