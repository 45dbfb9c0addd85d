package dev.checkprop.cli;

import dev.checkprop.nn.Network;
import dev.checkprop.train.Adam;
import dev.checkprop.train.AdamW;
import dev.checkprop.train.LearningRate;
import dev.checkprop.train.Optimizer;
import dev.checkprop.train.Sgd;

import java.util.Locale;

/** Optimizer names on the command line. */
final class Optimizers {

    private Optimizers() {
    }

    /**
     * Parameter-shaped float arrays the optimizer keeps (for the heap pre-flight check, before the
     * network exists).
     *
     * @throws IllegalArgumentException for an unknown name
     */
    static int stateCopies(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "sgd" -> 0;
            case "momentum" -> 1;
            case "adam", "adamw" -> 2;
            case "hessian-free" -> 7;
            default -> throw new IllegalArgumentException("unknown optimizer '" + name
                    + "' (expected sgd, momentum, adam, adamw or hessian-free)");
        };
    }

    static Optimizer create(String name, Network net, LearningRate lr, double momentum, double weightDecay) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "sgd" -> new Sgd(net, lr, 0, weightDecay);
            case "momentum" -> new Sgd(net, lr, momentum, weightDecay);
            case "adam" -> new Adam(net, lr, 0.9, 0.999, 1e-8, weightDecay);
            case "adamw" -> new AdamW(net, lr, 0.9, 0.999, 1e-8, weightDecay == 0 ? 0.01 : weightDecay);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name
                    + "' (expected sgd, momentum, adam or adamw)");
        };
    }
}
