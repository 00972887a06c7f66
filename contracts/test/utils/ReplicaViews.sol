// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobManager} from "../../src/interfaces/IJobManager.sol";

/// @notice A redundant job's counters, consensus and every replica at once, assembled from the job manager's
/// small views (the contract keeps no list view, to stay under the code size limit).
library ReplicaViews {
    function all(IJobManager jm, uint256 id)
        internal
        view
        returns (IJobManager.Redundancy memory r, bytes32 consensus, IJobManager.Replica[] memory replicas)
    {
        (r, consensus) = jm.redundancyOf(id);
        replicas = new IJobManager.Replica[](r.assigned);
        for (uint256 i; i < replicas.length; ++i) {
            replicas[i] = jm.replicaOf(id, i + 1);
        }
    }
}
