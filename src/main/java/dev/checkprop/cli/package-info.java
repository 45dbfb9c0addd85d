/**
 * The command line ({@code java -jar checkprop.jar grad | plan | demo}), built on picocli, with JSON
 * reports through Jackson. Both are optional dependencies: nothing outside this package uses them.
 */
package dev.checkprop.cli;
