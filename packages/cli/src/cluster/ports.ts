/** Where the processes of a local cluster listen: gateways first, then the nodes, one port each. */
export interface PortLayout {
  /** Gateway j (0-based) listens on `port + j`. */
  gateways: number[];
  /** Node i (1-based) listens on `port + gateways - 1 + i`. */
  nodes: number[];
}

export function portLayout(port: number, gateways: number, nodes: number): PortLayout {
  return {
    gateways: Array.from({ length: gateways }, (_, j) => port + j),
    nodes: Array.from({ length: nodes }, (_, index) => port + gateways + index),
  };
}

/** The highest port the layout uses. */
export function lastPort(port: number, gateways: number, nodes: number): number {
  return port + gateways + nodes - 1;
}
