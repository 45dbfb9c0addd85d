package dev.checkprop.torch;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.LayerNormLayer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The modules of a {@code torch.nn.Sequential}, in order, as an architecture string names them.
 * Shapes are not part of it: they come from the state_dict's tensors. The grammar:
 *
 * <pre>
 * architecture := item ( "," item )*
 * item         := module [ "*" COUNT ]               the module COUNT times (COUNT &ge; 1)
 * module       := "linear" [ ":" activation ]        nn.Linear(in, out), then the activation's module
 *               | activation                         nn.Tanh() | nn.ReLU() | nn.Sigmoid() | nn.GELU()
 *               | "identity"                         nn.Identity()
 *               | "layernorm" [ ":" EPS ]            nn.LayerNorm(n, eps=EPS), EPS 1e-5 by default
 *               | "dropout" [ ":" P ]                nn.Dropout(p=P), P 0.5 by default
 * activation   := "tanh" | "relu" | "sigmoid" | "gelu"
 * </pre>
 *
 * Names are case-insensitive and spaces around items are ignored. Every module takes one index of
 * the Sequential, so {@code linear:tanh} takes two: {@code linear:tanh,linear:tanh,linear} is
 * {@code nn.Sequential(nn.Linear, nn.Tanh(), nn.Linear, nn.Tanh(), nn.Linear)} with parameters
 * {@code 0.weight 0.bias 2.weight 2.bias 4.weight 4.bias}; {@code linear,tanh} is the same as
 * {@code linear:tanh}; and {@code linear:relu*3} is three Linear-ReLU pairs.
 *
 * <p>{@code gelu} is torch's default {@code nn.GELU()} (the exact, erf form) and needs the GELU
 * activation of {@link Activation}; a version without it refuses {@code gelu} by name.
 */
public final class Architecture {

    /** A module kind of the grammar. */
    public enum Kind {
        /** nn.Linear: {@code N.weight [out, in]}, {@code N.bias [out]}. */
        LINEAR,
        /** An activation module, no parameters. */
        ACTIVATION,
        /** nn.Identity, no parameters. */
        IDENTITY,
        /** nn.LayerNorm (elementwise affine): {@code N.weight [n]}, {@code N.bias [n]}. */
        LAYERNORM,
        /** nn.Dropout, no parameters. */
        DROPOUT
    }

    /**
     * One module at {@code index} of the Sequential.
     *
     * @param activation for {@link Kind#ACTIVATION}, else null
     * @param eps        for {@link Kind#LAYERNORM}, else 0
     * @param rate       for {@link Kind#DROPOUT}, else 0
     */
    public record Module(int index, Kind kind, Activation activation, float eps, float rate) {
        /** Whether the module has parameters ({@code index.weight} and {@code index.bias}). */
        public boolean hasParameters() {
            return kind == Kind.LINEAR || kind == Kind.LAYERNORM;
        }

        /** The module as the grammar writes it alone: {@code linear}, {@code tanh}, {@code layernorm:1.0E-6}, ... */
        public String spec() {
            return switch (kind) {
                case LINEAR -> "linear";
                case ACTIVATION -> activation.fileName();
                case IDENTITY -> "identity";
                case LAYERNORM -> eps == LayerNormLayer.DEFAULT_EPS ? "layernorm" : "layernorm:" + eps;
                case DROPOUT -> "dropout:" + rate;
            };
        }
    }

    /** The activations of the grammar and their torch modules; GELU only when the library has it. */
    private static final List<String> ACTIVATIONS = List.of("tanh", "relu", "sigmoid", "gelu");

    private static final int MAX_MODULES = 10_000_000;

    private final List<Module> modules;

    private Architecture(List<Module> modules) {
        this.modules = Collections.unmodifiableList(modules);
    }

    /** The modules in Sequential order; module i has {@link Module#index()} i. */
    public List<Module> modules() {
        return modules;
    }

    /** Builds an architecture from modules whose indices are 0, 1, 2, ... */
    static Architecture of(List<Module> modules) {
        for (int i = 0; i < modules.size(); i++) {
            if (modules.get(i).index() != i) {
                throw new IllegalArgumentException("module " + i + " has index " + modules.get(i).index());
            }
        }
        return new Architecture(new ArrayList<>(modules));
    }

    /**
     * Parses an architecture string (see the class notes).
     *
     * @throws IllegalArgumentException naming the item at fault and what is accepted
     */
    public static Architecture parse(String text) {
        Objects.requireNonNull(text, "architecture");
        if (text.isBlank()) {
            throw new IllegalArgumentException("empty architecture: give modules such as linear:tanh,linear");
        }
        List<Module> out = new ArrayList<>();
        String[] items = text.split(",", -1);
        for (int k = 0; k < items.length; k++) {
            String item = items[k].trim().toLowerCase(Locale.ROOT);
            String where = "architecture item " + (k + 1) + " '" + items[k].trim() + "'";
            if (item.isEmpty()) {
                throw new IllegalArgumentException("architecture item " + (k + 1) + " is empty (two commas, or a comma at an end)");
            }
            int count = 1;
            int star = item.indexOf('*');
            if (star >= 0) {
                String c = item.substring(star + 1).trim();
                try {
                    count = Integer.parseInt(c);
                } catch (NumberFormatException e) {
                    count = -1;
                }
                if (count < 1) {
                    throw new IllegalArgumentException(where + ": the repeat count after '*' must be an integer >= 1, got '" + c + "'");
                }
                item = item.substring(0, star).trim();
            }
            List<Module> one = module(item, where);
            if ((long) out.size() + (long) count * one.size() > MAX_MODULES) {
                throw new IllegalArgumentException(where + ": more than " + MAX_MODULES + " modules");
            }
            for (int r = 0; r < count; r++) {
                for (Module m : one) {
                    out.add(new Module(out.size(), m.kind(), m.activation(), m.eps(), m.rate()));
                }
            }
        }
        return new Architecture(out);
    }

    /** The module(s) one item names (two for linear:activation), with indices 0 (and 1). */
    private static List<Module> module(String item, String where) {
        int colon = item.indexOf(':');
        String name = (colon < 0 ? item : item.substring(0, colon)).trim();
        String arg = colon < 0 ? null : item.substring(colon + 1).trim();
        switch (name) {
            case "linear" -> {
                Module linear = new Module(0, Kind.LINEAR, null, 0f, 0f);
                if (arg == null) {
                    return List.of(linear);
                }
                if (arg.equals("identity")) {
                    return List.of(linear);
                }
                if (!ACTIVATIONS.contains(arg)) {
                    throw new IllegalArgumentException(where + ": unknown activation '" + arg + "' after linear (expected "
                            + String.join(", ", ACTIVATIONS) + ")");
                }
                return List.of(linear, new Module(1, Kind.ACTIVATION, activation(arg, where), 0f, 0f));
            }
            case "identity" -> {
                noArgument(arg, name, where);
                return List.of(new Module(0, Kind.IDENTITY, null, 0f, 0f));
            }
            case "layernorm" -> {
                float eps = LayerNormLayer.DEFAULT_EPS;
                if (arg != null) {
                    eps = number(arg, where, "eps");
                    if (!(eps > 0f && eps < 1f)) {
                        throw new IllegalArgumentException(where + ": layernorm eps must be a positive number below 1, got " + arg);
                    }
                }
                return List.of(new Module(0, Kind.LAYERNORM, null, eps, 0f));
            }
            case "dropout" -> {
                float p = 0.5f;
                if (arg != null) {
                    p = number(arg, where, "p");
                    if (!(p >= 0f && p < 1f)) {
                        throw new IllegalArgumentException(where + ": dropout p must be in [0, 1), got " + arg);
                    }
                }
                return List.of(new Module(0, Kind.DROPOUT, null, 0f, p));
            }
            default -> {
                if (ACTIVATIONS.contains(name)) {
                    noArgument(arg, name, where);
                    return List.of(new Module(0, Kind.ACTIVATION, activation(name, where), 0f, 0f));
                }
                throw new IllegalArgumentException(where + ": unknown module '" + name + "' (expected linear[:ACTIVATION],"
                        + " tanh, relu, sigmoid, gelu, identity, layernorm[:EPS] or dropout[:P], each optionally *COUNT)");
            }
        }
    }

    /** The library's activation called {@code name}; GELU is refused by name where the library has none. */
    private static Activation activation(String name, String where) {
        for (Activation a : Activation.values()) {
            if (a.fileName().equals(name)) {
                return a;
            }
        }
        if (name.equals("gelu")) {
            throw new IllegalArgumentException(where + ": gelu is not supported by this version of checkprop"
                    + " (it has no GELU activation: " + describeActivations() + ")");
        }
        throw new IllegalArgumentException(where + ": unknown activation '" + name + "'");
    }

    private static String describeActivations() {
        List<String> names = new ArrayList<>();
        for (Activation a : Activation.values()) {
            names.add(a.fileName());
        }
        return String.join(", ", names);
    }

    private static void noArgument(String arg, String name, String where) {
        if (arg != null) {
            throw new IllegalArgumentException(where + ": " + name + " takes no ':' argument");
        }
    }

    private static float number(String arg, String where, String what) {
        try {
            float v = Float.parseFloat(arg);
            if (Float.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(where + ": " + what + " must be a number, got '" + arg + "'");
    }

    /**
     * The canonical string: each Linear followed by its activation written {@code linear:ACT}, runs
     * of equal items as {@code ITEM*COUNT}; {@link #parse} of it gives these modules again.
     */
    @Override
    public String toString() {
        List<String> items = new ArrayList<>();
        for (int i = 0; i < modules.size(); i++) {
            Module m = modules.get(i);
            if (m.kind() == Kind.LINEAR && i + 1 < modules.size() && modules.get(i + 1).kind() == Kind.ACTIVATION) {
                items.add("linear:" + modules.get(i + 1).activation().fileName());
                i++;
            } else {
                items.add(m.spec());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < items.size(); ) {
            int run = 1;
            while (i + run < items.size() && items.get(i + run).equals(items.get(i))) {
                run++;
            }
            sb.append(sb.length() == 0 ? "" : ",").append(items.get(i)).append(run > 1 ? "*" + run : "");
            i += run;
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Architecture a && modules.equals(a.modules);
    }

    @Override
    public int hashCode() {
        return modules.hashCode();
    }
}
