package dev.checkprop.tier;

import java.nio.file.Path;

/**
 * A child JVM for {@link SpillDirectoryTest}: makes a run directory with a spill file in {@code args[0]},
 * prints its path, then ends as {@code args[1]} says: {@code halt} (as if killed: no shutdown hook
 * runs), {@code exit} (System.exit without close: the hook cleans), or {@code wait} (until its
 * standard input closes, then close).
 */
public final class SpillChild {

    private SpillChild() {
    }

    public static void main(String[] args) throws Exception {
        SpillDirectory dir = SpillDirectory.create(Path.of(args[0]));
        DiskSlots slots = new DiskSlots(dir, new long[] {1024, 2048});
        System.out.println(dir.path());
        System.out.flush();
        switch (args[1]) {
            case "halt" -> Runtime.getRuntime().halt(0);
            case "exit" -> System.exit(0);
            default -> {
                while (System.in.read() >= 0) {
                    // wait for the parent to close our input
                }
                slots.close();
                dir.close();
            }
        }
    }
}
