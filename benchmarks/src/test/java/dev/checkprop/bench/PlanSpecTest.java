package dev.checkprop.bench;

import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlanSpecTest {

    @Test
    void absoluteSpecsPassThrough() {
        assertEquals("full", PlanSpec.resolve("full", 64, 128, 256));
        assertEquals("sqrt", PlanSpec.resolve(" sqrt ", 64, 128, 256));
        assertEquals("binomial:8", PlanSpec.resolve("binomial:8", 1024, 128, 256));
        assertEquals("budget:64MiB", PlanSpec.resolve("budget:64MiB", 1024, 128, 256), "unknown forms untouched");
        assertFalse(PlanSpec.isRelative("optimal:8"));
    }

    @Test
    void relativeSpecsResolvePerNetwork() {
        assertEquals("uniform:32", PlanSpec.resolve("uniform:L/2", 64, 128, 256));
        assertEquals("uniform:256", PlanSpec.resolve("uniform:L/4", 1024, 128, 256));
        assertEquals("uniform:34", PlanSpec.resolve("uniform:L/3", 100, 128, 256), "rounded up");
        assertEquals("optimal:16", PlanSpec.resolve("optimal:2sqrtL", 64, 128, 256));
        assertEquals("optimal:64", PlanSpec.resolve("optimal:2sqrtL", 1024, 128, 256));
        assertEquals("optimal:11", PlanSpec.resolve("optimal:sqrtL", 101, 128, 256), "ceil(sqrt(101)) = 11");
        assertEquals("budget:" + (4L * 64 * 128 * 256 / 8), PlanSpec.resolve("budget:fullBytes/8", 64, 128, 256));
        assertTrue(PlanSpec.isRelative("optimal:2sqrtL"));
        assertEquals("optimal", PlanSpec.family("optimal:2sqrtL"));
    }

    @Test
    void defaultPlansAreValidAtEveryDefaultDepth() {
        String[] plans = {"full", "uniform:L/2", "uniform:L/4", "sqrt", "optimal:2sqrtL", "binomial:2sqrtL",
            "optimal:8", "binomial:8"};
        for (int layers : new int[] {64, 256, 1024}) {
            for (String p : plans) {
                Planners.parse(PlanSpec.resolve(p, layers, 128, 256)).plan(layers); // throws if invalid
            }
        }
    }

    @Test
    void sqrtMatchesTheLibrarysK() {
        for (int n = 1; n <= 5000; n++) {
            long k = PlanSpec.ceilSqrt(n);
            assertTrue(k * k >= n && (k == 1 || (k - 1) * (k - 1) < n), "n = " + n);
        }
    }

    @Test
    void relativeBelowOneIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> PlanSpec.resolve("uniform:L/0", 64, 128, 256));
        assertThrows(IllegalArgumentException.class, () -> PlanSpec.resolve("uniform:0L", 64, 128, 256));
    }
}
