package dev.checkprop.bench;

import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planner;
import dev.checkprop.plan.Planners;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/*
 * How long planning takes. A plan is made once and reused for every training step, so planning
 * only has to be cheap next to a run; the targets are binomial at L = 100,000 "well under a
 * second" and optimal:64 at L = 2,000 "under two seconds".
 *
 * Every planner is covered, at the depth where it is interesting: the linear-time planners (full,
 * uniform, sqrt, binomial) at L = 100,000, the dynamic program (optimal, O(L M log L)) at
 * L = 1,000 .. 2,000 — and at Bench02's largest depth, L = 1,024, with that benchmark's budgets.
 * A case is "PLAN@L"; PLAN may use Bench02's relative arguments (PlanSpec: L/4, 2sqrtL, ...), so a
 * new plan string, e.g. a byte budget, is one more entry here.
 *
 * Planning is a single-shot cost with a cold and a warm answer: Mode.SingleShotTime with several
 * forks shows the cold one (what a user sees once per process); the warm-up iterations show what
 * the JIT makes of it.
 *
 * HOW TO RUN THIS TEST:
 *   java -jar benchmarks/target/benchmarks.jar Bench01_Planning
 *   java -jar benchmarks/target/benchmarks.jar Bench01_Planning -p case_=optimal:64@2000,binomial:8@100000
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss1m"})
public class Bench01_Planning {

    @Param({"full@100000", "uniform:L/4@100000", "uniform:100@100000", "sqrt@100000",
            "binomial:8@100000", "binomial:32@100000",
            "optimal:64@2000", "optimal:32@1000", "optimal:256@2000",
            "optimal:8@1024", "optimal:2sqrtL@1024", "binomial:2sqrtL@1024"})
    public String case_;

    private Planner planner;
    private int layers;

    @Setup
    public void setup() {
        int at = case_.lastIndexOf('@');
        if (at < 0) {
            throw new IllegalArgumentException("case must be PLAN@LAYERS, got '" + case_ + "'");
        }
        layers = Integer.parseInt(case_.substring(at + 1).trim());
        // width and batch only matter for a fullBytes-relative argument; Bench02's defaults.
        planner = Planners.parse(PlanSpec.resolve(case_.substring(0, at), layers, 128, 256));
    }

    @Benchmark
    public Plan plan() {
        return planner.plan(layers);
    }
}
