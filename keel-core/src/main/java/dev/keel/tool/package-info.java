/** The tool port: specs, invocations, results and the policy that decides each call. */
@NullMarked
package dev.keel.tool;

import org.jspecify.annotations.NullMarked;
