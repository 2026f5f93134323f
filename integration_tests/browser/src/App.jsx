import jsonServerProvider from "ra-data-json-server";
import { Admin, Resource } from "react-admin";
import { authProvider } from "./authProvider";
import { apiUrl } from "./config";
import { httpClient } from "./httpClient";
import { NumberCreate, NumberEdit, NumberList, PinnedNumbers } from "./numbers";

const dataProvider = jsonServerProvider(apiUrl, httpClient);

export const App = () => (
  <Admin
    title="Numbers admin"
    dataProvider={dataProvider}
    authProvider={authProvider}
    dashboard={PinnedNumbers}
    requireAuth
    disableTelemetry
  >
    <Resource
      name="numbers"
      list={NumberList}
      edit={NumberEdit}
      create={NumberCreate}
      recordRepresentation="value"
    />
  </Admin>
);
