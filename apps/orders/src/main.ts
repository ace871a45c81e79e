// Process entry point of the orders service.
import { runMain } from "@orders-platform/service-kit";
import { ordersService } from "./app";

runMain(ordersService);
