import {
  BulkDeleteButton,
  Button,
  Create,
  Datagrid,
  Edit,
  List,
  Pagination,
  ReferenceArrayField,
  SearchInput,
  SelectInput,
  SimpleForm,
  TextField,
  TextInput,
  Title,
  useListContext,
  useNotify,
  useStore,
} from "react-admin";

// The API's default CURRENCIES setting; the API rejects any other with a 422.
const currencies = ["U$", "R$", "USD", "BRL", "EUR"].map((code) => ({ id: code, name: code }));

const filters = [
  <SearchInput key="q" source="q" alwaysOn />,
  <SelectInput key="currency" source="currency" choices={currencies} alwaysOn />,
];

const PINNED = "numbers.pinned";

/** Pins the selected numbers to the dashboard. */
const PinButton = () => {
  const { selectedIds, onUnselectItems } = useListContext();
  const [, setPinned] = useStore(PINNED, []);
  const notify = useNotify();
  const pin = () => {
    setPinned(selectedIds);
    notify(`${selectedIds.length} numbers pinned to the dashboard`);
    onUnselectItems();
  };
  return <Button label="Pin" onClick={pin} />;
};

const BulkActions = () => (
  <>
    <PinButton />
    <BulkDeleteButton mutationMode="pessimistic" />
  </>
);

const numberColumns = [
  <TextField key="id" source="id" />,
  <TextField key="value" source="value" />,
  <TextField key="monthyPrice" source="monthyPrice" label="Monthly price" />,
  <TextField key="setupPrice" source="setupPrice" label="Setup price" />,
  <TextField key="currency" source="currency" />,
];

export const NumberList = () => (
  <List
    filters={filters}
    perPage={10}
    pagination={<Pagination rowsPerPageOptions={[10, 25, 50]} />}
    sort={{ field: "id", order: "ASC" }}
  >
    <Datagrid rowClick="edit" bulkActionButtons={<BulkActions />}>
      {numberColumns}
    </Datagrid>
  </List>
);

// Prices are text: money is never a JavaScript float.
const NumberForm = () => (
  <SimpleForm>
    <TextInput source="value" />
    <TextInput source="monthyPrice" label="Monthly price" />
    <TextInput source="setupPrice" label="Setup price" />
    <SelectInput source="currency" choices={currencies} />
  </SimpleForm>
);

export const NumberEdit = () => (
  <Edit mutationMode="pessimistic">
    <NumberForm />
  </Edit>
);

export const NumberCreate = () => (
  <Create redirect="list">
    <NumberForm />
  </Create>
);

/** The dashboard: the pinned numbers, fetched together with one getMany. */
export const PinnedNumbers = () => {
  const [pinned] = useStore(PINNED, []);
  return (
    <div className="pinned-numbers" style={{ padding: 16 }}>
      <Title title="Dashboard" />
      <h2>Pinned numbers</h2>
      {pinned.length === 0 ? (
        <p>Select numbers in the list and pin them to see them here.</p>
      ) : (
        <ReferenceArrayField
          record={{ id: "dashboard", pinned }}
          source="pinned"
          reference="numbers"
        >
          <Datagrid bulkActionButtons={false} rowClick="edit">
            {numberColumns}
          </Datagrid>
        </ReferenceArrayField>
      )}
    </div>
  );
};
