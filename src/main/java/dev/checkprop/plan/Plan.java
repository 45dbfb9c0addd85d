package dev.checkprop.plan;

import it.unimi.dsi.fastutil.bytes.ByteArrayList;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A checkpoint schedule: an immutable sequence of actions over a chain of {@code L} layers,
 * written by a {@link Planner} and run by the executor. A plan can be printed, parsed, counted and
 * checked without running any layer; every {@code Plan} instance has passed {@link PlanChecker},
 * so holding one means holding a valid schedule.
 *
 * <p>Activations are named by layer: a<sup>l</sup> is the output of layer {@code l}
 * (1 &le; l &le; L); a<sup>0</sup> is the caller's input, always available and never counted.
 * The actions, their preconditions and effects (the memory model of {@code docs/plans.md}):
 * <table>
 * <caption>Actions</caption>
 * <tr><th>text</th><th>action</th><th>precondition</th><th>effect</th><th>live buffers</th></tr>
 * <tr><td>{@code F l}</td><td>{@link Op#FORWARD}</td><td>a<sup>l-1</sup> live (or l = 1); a<sup>l</sup> not live</td>
 *     <td>computes a<sup>l</sup> into a free buffer</td><td>+1</td></tr>
 * <tr><td>{@code D l}</td><td>{@link Op#DROP}</td><td>a<sup>l</sup> live</td><td>frees its buffer</td><td>&minus;1</td></tr>
 * <tr><td>{@code LOSS}</td><td>{@link Op#LOSS}</td><td>a<sup>L</sup> live; no loss yet</td>
 *     <td>computes the loss and &part;L/&part;a<sup>L</sup>; the backward position becomes L</td><td>0</td></tr>
 * <tr><td>{@code B l}</td><td>{@link Op#BACKWARD}</td><td>backward position is l; a<sup>l</sup> and a<sup>l-1</sup> live</td>
 *     <td>gradients of W<sup>l</sup>, b<sup>l</sup> and &part;L/&part;a<sup>l-1</sup>; position becomes l-1</td><td>0</td></tr>
 * <tr><td>{@code W l@offheap}, {@code W l@disk}</td><td>{@link Op#WRITE}</td><td>a<sup>l</sup> live; no tier copy of a<sup>l</sup></td>
 *     <td>a copy of the state of layer l is held in that {@link Tier}; the heap is unchanged</td><td>0</td></tr>
 * <tr><td>{@code R l}</td><td>{@link Op#READ}</td><td>a tier copy of a<sup>l</sup>; a<sup>l</sup> not live</td>
 *     <td>a<sup>l</sup> is live in a free heap buffer (filled from the copy, which remains)</td><td>+1</td></tr>
 * <tr><td>{@code X l}</td><td>{@link Op#DISCARD}</td><td>a tier copy of a<sup>l</sup></td>
 *     <td>the copy is freed</td><td>0</td></tr>
 * </table>
 * A plan ends with the backward position at 0, no live buffers and no tier copies. {@code F l} stays
 * legal while a tier copy of a<sup>l</sup> exists (recomputing instead of reading). A read takes its
 * heap buffer at the action, even though an executor may fill it in the background, so heap peaks
 * count it from there on.
 *
 * <p>Text form: actions separated by spaces, e.g. full storage of three layers reads
 * {@code F1 F2 F3 LOSS B3 D3 B2 D2 B1 D1}; keeping a<sup>1</sup> off the heap instead,
 * {@code F1 W1@offheap F2 D1 F3 LOSS B3 D3 R1 B2 D2 B1 D1 X1}.
 */
public final class Plan {

    /** The closed action vocabulary; see the class documentation for the semantics. */
    public enum Op {
        /** Compute a<sup>l</sup> from a<sup>l-1</sup> into a free buffer. */
        FORWARD,
        /** Free the buffer holding a<sup>l</sup>. */
        DROP,
        /** Loss and its gradient with respect to a<sup>L</sup>. */
        LOSS,
        /** Backward through layer l: parameter gradients and the gradient flowing to a<sup>l-1</sup>. */
        BACKWARD,
        /** Copy the live state of layer l into a {@link Tier}; the heap buffer stays live. */
        WRITE,
        /** Fill a free heap buffer with the tier copy of layer l's state, which stays held. */
        READ,
        /** Free the tier copy of layer l's state. */
        DISCARD
    }

    /**
     * One action, as a value for printing and tests; {@code layer} is 0 for {@link Op#LOSS};
     * {@code tier} names the tier of a {@link Op#WRITE} and is null for every other action.
     */
    public record Action(Op op, int layer, Tier tier) {

        /** An action that names no tier (every action but {@link Op#WRITE}). */
        public Action(Op op, int layer) {
            this(op, layer, null);
        }

        @Override
        public String toString() {
            return switch (op) {
                case FORWARD -> "F" + layer;
                case DROP -> "D" + layer;
                case LOSS -> "LOSS";
                case BACKWARD -> "B" + layer;
                case WRITE -> "W" + layer + "@" + tier.text();
                case READ -> "R" + layer;
                case DISCARD -> "X" + layer;
            };
        }
    }

    /*
     * Each action is one byte: the op, with a write's tier folded in (codes 4 and 5), so a plan with
     * tiers costs no more per action than one without, and the codes 0..3 of the heap-only
     * vocabulary are unchanged.
     */
    private static final Op[] OP_OF_CODE = {Op.FORWARD, Op.DROP, Op.LOSS, Op.BACKWARD, Op.WRITE, Op.WRITE, Op.READ,
            Op.DISCARD};
    private static final Tier[] TIERS = Tier.values();
    private static final int WRITE_CODE = 4;

    private static byte code(Op op, Tier tier) {
        return switch (op) {
            case FORWARD, DROP, LOSS, BACKWARD -> (byte) op.ordinal();
            case WRITE -> (byte) (WRITE_CODE + tier.ordinal());
            case READ -> 6;
            case DISCARD -> 7;
        };
    }

    private final String name;
    private final int layers;
    private final byte[] ops;
    private final int[] args;
    private final PlanStats stats;

    private Plan(String name, int layers, byte[] ops, int[] args) {
        this.name = name;
        this.layers = layers;
        this.ops = ops;
        this.args = args;
        this.stats = PlanChecker.check(this);
    }

    /**
     * Starts a plan over {@code layers} layers.
     *
     * @param name how the plan was made, e.g. {@code "binomial:4"}; printed with the plan
     */
    public static Builder builder(String name, int layers) {
        return new Builder(name, layers);
    }

    /**
     * Parses the text form (tokens {@code F<l>}, {@code D<l>}, {@code LOSS}, {@code B<l>},
     * {@code W<l>@offheap}, {@code W<l>@disk}, {@code R<l>}, {@code X<l>}, separated by white space or
     * {@code |}) and checks the result.
     *
     * @throws IllegalArgumentException on an unknown token
     * @throws InvalidPlanException if the actions do not form a valid plan
     */
    public static Plan parse(String name, int layers, String text) {
        Builder b = builder(name, layers);
        for (String tok : text.trim().split("[\\s|]+")) {
            if (tok.isEmpty()) {
                continue;
            }
            if (tok.equals("LOSS")) {
                b.loss();
                continue;
            }
            char c = tok.charAt(0);
            final int at = tok.indexOf('@');
            if (c == 'W' && at < 0) {
                throw new IllegalArgumentException("plan action '" + tok + "' names no tier (expected " + tok
                        + "@offheap or " + tok + "@disk)");
            }
            if (at >= 0 && c != 'W') {
                throw new IllegalArgumentException("unknown plan action '" + tok + "' (only a write names a tier: W<l>@offheap)");
            }
            int l;
            try {
                l = Integer.parseInt(tok.substring(1, at < 0 ? tok.length() : at));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("unknown plan action '" + tok + "' (" + EXPECTED + ")");
            }
            switch (c) {
                case 'F' -> b.forward(l);
                case 'D' -> b.drop(l);
                case 'B' -> b.backward(l);
                case 'W' -> b.write(l, Tier.parse(tok.substring(at + 1)));
                case 'R' -> b.read(l);
                case 'X' -> b.discard(l);
                default -> throw new IllegalArgumentException("unknown plan action '" + tok + "' (" + EXPECTED + ")");
            }
        }
        return b.build();
    }

    private static final String EXPECTED = "expected F<l>, D<l>, LOSS, B<l>, W<l>@offheap, W<l>@disk, R<l> or X<l>";

    /** Answers the same actions under another name (checked again, as every plan is). */
    Plan renamed(String newName) {
        return new Plan(Objects.requireNonNull(newName, "name"), layers, ops, args);
    }

    /** Answers how the plan was made, e.g. {@code "sqrt"} or {@code "optimal:6"}. */
    public String name() {
        return name;
    }

    /** Answers L, the number of layers of the chain the plan is for. */
    public int layers() {
        return layers;
    }

    /** Answers the number of actions. */
    public int size() {
        return ops.length;
    }

    /** Answers the operation of action {@code i}. */
    public Op op(int i) {
        return OP_OF_CODE[ops[i]];
    }

    /**
     * Answers the tier action {@code i} writes to.
     *
     * @throws IllegalArgumentException if action {@code i} is not a {@link Op#WRITE}
     */
    public Tier tier(int i) {
        final int c = ops[i] - WRITE_CODE;
        if (c < 0 || c >= TIERS.length) {
            throw new IllegalArgumentException("action #" + i + " (" + action(i) + ") is not a write and names no tier");
        }
        return TIERS[c];
    }

    /** Whether the plan has any tier action ({@link Op#WRITE}, {@link Op#READ}, {@link Op#DISCARD}). */
    public boolean usesTiers() {
        return stats.usesTiers();
    }

    /** Answers the layer of action {@code i} (0 for {@link Op#LOSS}). */
    public int layer(int i) {
        return args[i];
    }

    /** Answers action {@code i} as a value. */
    public Action action(int i) {
        final Op op = op(i);
        return new Action(op, args[i], op == Op.WRITE ? tier(i) : null);
    }

    /** Answers all actions as values (a copy). */
    public List<Action> actions() {
        List<Action> out = new ArrayList<>(ops.length);
        for (int i = 0; i < ops.length; i++) {
            out.add(action(i));
        }
        return out;
    }

    /** Answers the counts the checker derived from the actions alone. */
    public PlanStats stats() {
        return stats;
    }

    /**
     * Answers what the plan costs on {@code chain}: forward cost and peak live bytes
     * ({@link PlanChecker#measure}).
     *
     * @throws IllegalArgumentException if the chain's length differs from the plan's
     */
    public PlanCost cost(Chain chain) {
        return PlanChecker.measure(this, chain);
    }

    /** Answers the text form, parseable by {@link #parse}. */
    public String actionsText() {
        StringBuilder sb = new StringBuilder(ops.length * 4);
        for (int i = 0; i < ops.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(action(i));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "Plan[" + name + ", L=" + layers + ", " + ops.length + " actions, "
                + stats.forwardEvaluations() + " forward evaluations, peak " + stats.peakLiveBuffers()
                + " live buffers]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Plan p && p.layers == layers && java.util.Arrays.equals(p.ops, ops)
                && java.util.Arrays.equals(p.args, args);
    }

    @Override
    public int hashCode() {
        return Objects.hash(layers, java.util.Arrays.hashCode(ops), java.util.Arrays.hashCode(args));
    }

    /**
     * Collects actions; {@link #build()} checks them. Backed by primitive lists so that plans of
     * hundreds of thousands of actions build without boxing.
     */
    /**
     * Heap bytes one action costs while a plan is built: 5 stored, the growth of the builder's
     * arrays, the final copy, and the checker's pass.
     */
    static final int BUILD_BYTES_PER_ACTION = 16;

    /** The most actions a plan can hold in any JVM: its actions live in arrays. */
    static final long MAX_ACTIONS = Integer.MAX_VALUE - 16;

    /**
     * Answers the most actions a plan may have in this JVM: what half the usable heap (the heap less
     * the 20% + 32 MiB margin {@code HeapBudget} keeps) holds at {@value #BUILD_BYTES_PER_ACTION}
     * bytes an action, the other half being for the network and its buffers, and at most
     * {@link #MAX_ACTIONS}.
     */
    public static long maxActions() {
        long max = Runtime.getRuntime().maxMemory();
        long usable = Math.max(0, max - max / 100 * 20 - (32L << 20));
        return Math.max(1024, Math.min(MAX_ACTIONS, usable / 2 / BUILD_BYTES_PER_ACTION));
    }

    /**
     * Refuses, before anything is built, a plan of {@code forwards} forward evaluations for
     * {@code layers} layers (about 2 actions per forward plus one per layer) that would not fit.
     *
     * @param alternative what the user can do instead, e.g. "use more snapshots (binomial:S with a larger S)"
     * @throws IllegalArgumentException naming the planner, the counts and this JVM's limit
     */
    public static void checkSize(String planner, int layers, long forwards, String alternative) {
        long actions = forwards > (Long.MAX_VALUE - layers) / 2 ? Long.MAX_VALUE : 2 * forwards + layers + 1;
        long limit = maxActions();
        if (actions > limit) {
            throw new IllegalArgumentException(planner + " cannot serve " + layers + " layers: the plan would need "
                    + forwards + " forward evaluations (" + actions + " actions) but this JVM can hold plans of up to "
                    + limit + " actions (-Xmx " + Planners.humanBytes(Runtime.getRuntime().maxMemory()) + "); "
                    + alternative);
        }
    }

    public static final class Builder {
        private final String name;
        private final int layers;
        private final ByteArrayList ops = new ByteArrayList();
        private final IntArrayList args = new IntArrayList();
        /** Planners check their size up front; this guard catches any that cannot (and hand-made plans). */
        private final long limit = maxActions();

        private Builder(String name, int layers) {
            if (layers < 1) {
                throw new IllegalArgumentException("a plan needs at least 1 layer, got " + layers);
            }
            this.name = Objects.requireNonNull(name, "name");
            this.layers = layers;
        }

        /** Appends {@code F l}. */
        public Builder forward(int l) {
            return add(Op.FORWARD, l);
        }

        /** Appends {@code D l}. */
        public Builder drop(int l) {
            return add(Op.DROP, l);
        }

        /** Appends {@code LOSS}. */
        public Builder loss() {
            return add(Op.LOSS, 0);
        }

        /** Appends {@code B l}. */
        public Builder backward(int l) {
            return add(Op.BACKWARD, l);
        }

        /** Appends {@code W l@tier}: copy the live state of layer l into {@code tier}. */
        public Builder write(int l, Tier tier) {
            return add(Op.WRITE, Objects.requireNonNull(tier, "tier"), l);
        }

        /** Appends {@code R l}: read the tier copy of layer l's state back into a heap buffer. */
        public Builder read(int l) {
            return add(Op.READ, l);
        }

        /** Appends {@code X l}: free the tier copy of layer l's state. */
        public Builder discard(int l) {
            return add(Op.DISCARD, l);
        }

        /** Answers the number of actions so far. */
        public int size() {
            return ops.size();
        }

        /** Answers L, the number of layers of the plan being built. */
        int layers() {
            return layers;
        }

        private Builder add(Op op, int l) {
            return add(op, null, l);
        }

        private Builder add(Op op, Tier tier, int l) {
            if (ops.size() >= limit) {
                throw new IllegalArgumentException(name + " for " + layers + " layers needs more than " + limit
                        + " actions, more than this JVM can hold (-Xmx " + Planners.humanBytes(Runtime.getRuntime().maxMemory())
                        + "); use a plan that recomputes less or a larger -Xmx");
            }
            ops.add(code(op, tier));
            args.add(l);
            return this;
        }

        /**
         * Answers the plan.
         *
         * @throws InvalidPlanException naming the first action that breaks the memory model
         */
        public Plan build() {
            return new Plan(name, layers, ops.toByteArray(), args.toIntArray());
        }
    }
}
