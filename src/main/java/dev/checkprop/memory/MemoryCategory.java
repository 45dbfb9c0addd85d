package dev.checkprop.memory;

import java.util.Locale;

/** What the bytes of a gradient computation are spent on, each with its lifetime. */
public enum MemoryCategory {
    /** W<sup>l</sup>, b<sup>l</sup>: live as long as the network. */
    PARAMETERS,
    /** &part;L/&part;W<sup>l</sup>, &part;L/&part;b<sup>l</sup>: written by every gradient computation. */
    GRADIENTS,
    /** The executor's pools of activation buffers, sized by the plan: allocated once, held throughout. */
    ACTIVATIONS,
    /** Backward-flow buffers and scratch: constant in the plan (input transposed, a<sup>l-1</sup> copy, two &part;L/&part;a). */
    WORKSPACE,
    /** The batch: x and y or labels. */
    BATCH,
    /** An optimizer's state (momentum, Adam moments); 0 without one. */
    OPTIMIZER_STATE;

    /** Answers the JSON key, e.g. {@code optimizer_state}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
