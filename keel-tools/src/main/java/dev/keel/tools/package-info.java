/**
 * The governed tool layer: contracts, catalog, policy, approvals and execution controls around any
 * Tool.
 */
@NullMarked
package dev.keel.tools;

import org.jspecify.annotations.NullMarked;
