// Process entry point of the users service.
import { runMain } from "@orders-platform/service-kit";
import { usersService } from "./app";

runMain(usersService);
